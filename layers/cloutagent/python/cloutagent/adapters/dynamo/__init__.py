"""DynamoDB adapters over one table. Key design: docs/data-model.md."""
