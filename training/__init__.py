"""Training the adapters Tansuo ships (`tansuo train tools|harm`): outside the runtime packages,
which never import it."""
