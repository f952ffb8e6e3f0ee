"""Stages: async functions over bus messages (normalize, relay); they see only the model, Bus and Store."""
