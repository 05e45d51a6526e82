"""The site the box is connected to: grid readings (a grid meter, or fed from outside) and
the limit sources they drive (main-fuse protection)."""
