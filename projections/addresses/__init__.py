"""Address search: the geocoder and each store's address index."""
