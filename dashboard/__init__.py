"""Panel/HoloViews dashboard for the dark axion portal explorer."""
