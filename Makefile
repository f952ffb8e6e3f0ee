# orderhub: `make run` starts the demo daemon, `make test` runs everything against real services.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ORDERHUB_CORPUS ?= $(abspath ../shared/corpus)
export ORDERHUB_CORPUS

# demo secrets for the connectors in ./connectors (never use these outside the demo)
export SHOPIFY_DEMO_SECRET ?= demo-shopify-secret
export WEBHOOK_DEMO_SECRET ?= demo-webhook-secret
export WOO_DEMO_SECRET ?= demo-woo-secret
export BIGCOMMERCE_DEMO_SECRET ?= demo-bigcommerce-secret
DEMO_URL ?= http://127.0.0.1:8080

.PHONY: run test lint bench demo-order clean

$(VENV)/.installed-run: pyproject.toml
	./scripts/bootstrap.sh run
	@touch $@

$(VENV)/.installed-test: pyproject.toml
	./scripts/bootstrap.sh test
	@touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	@echo "orderhub demo: listening on $(DEMO_URL); data in ./var"
	@echo "  send a signed Shopify test order from another terminal:  make demo-order"
	@echo "  or by hand:  body=examples/shopify-order.json; \\"
	@echo "    sig=\$$(openssl dgst -sha256 -hmac \"$$SHOPIFY_DEMO_SECRET\" -binary \$$body | base64); \\"
	@echo "    curl -sS $(DEMO_URL)/webhooks/shopify-demo -H \"X-Shopify-Hmac-Sha256: \$$sig\" \\"
	@echo "      -H 'X-Shopify-Topic: orders/create' -H 'Content-Type: application/json' --data-binary @\$$body"
	@echo "  then:  $(BIN)/orderhub orders list   (Ctrl-C stops the daemon)"
	$(BIN)/orderhub run --config orderhub.yaml

demo-order: $(VENV)/.installed-run
	$(BIN)/python scripts/send_webhook.py --url $(DEMO_URL)/webhooks/shopify-demo \
		--secret "$$SHOPIFY_DEMO_SECRET" --topic orders/create examples/shopify-order.json

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy

test: $(VENV)/.installed-test lint
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed-test
	./scripts/bootstrap.sh bench
	$(BIN)/python -m bench
	$(BIN)/python -m bench.x12_parse --mb 1024
	$(BIN)/python -m bench.reconcile

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
