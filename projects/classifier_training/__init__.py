"""Training the CIFAR-10 classifier that scores samples (README.md)."""
