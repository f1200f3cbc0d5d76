"""One module per resource; each route is a few lines calling the domain layer."""
