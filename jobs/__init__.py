"""Job code deployed as CDK assets (PySpark, PyFlink); tests run with `npm run test:py`."""
