"""REST API of reader studies and reading time (thin views; see the services)."""
