"""Developer tools that are not part of the product: keeping the Pipfile's pins current."""
