"""The `changegate` command line: thin commands over the services."""
