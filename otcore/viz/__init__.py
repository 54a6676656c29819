"""Pure figure builders (data in, plotly figure or image out), shared by the app and the CLI."""
