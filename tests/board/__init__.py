"""Board files on their real drivers, pilot flashing."""
