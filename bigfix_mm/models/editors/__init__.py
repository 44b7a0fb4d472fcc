"""One folder per method: :mod:`.bigfix` (the generator, its transformer, heads and
sampler) and :mod:`.vqgan` (the VQ / LFQ autoencoder and its trainer)."""
