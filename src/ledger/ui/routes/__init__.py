"""The app's routes: HTML shells and static files (`pages`), and the JSON API by view."""
