"""The editing study: inpainting, outpainting and free-form edits of CIFAR-10 test images
across samplers, with paired intervals (``python -m projects.editing_study``)."""
