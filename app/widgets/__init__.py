"""Small widgets, one control per module; the main window assembles them."""
