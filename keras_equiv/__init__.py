"""The scratch MLP's twin in Keras."""
