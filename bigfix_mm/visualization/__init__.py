"""Pictures: image and clip grids, PNG / GIF / MP4 writing, sampling strips."""
