"""`blocks ui`: a local web page over the same store and secret backends as the CLI."""
