"""orderhub's own X12 layer: tokenizer, serializer, envelopes, transaction-set specs, validator, acks."""
