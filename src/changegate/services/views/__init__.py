"""Read models (`...Out`): what the API returns and the CLI prints, one module per capability."""
