"""Payment providers. Adding a real PSP is one module implementing `PaymentProvider`."""
