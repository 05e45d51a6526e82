"""The site: grid readings and main-fuse protection, through the real controller."""
