"""Web pages for participants and programme leads, served by the API process."""
