"""The shopping assistant: intent detection, catalog retrieval and answer templates, in-process."""
