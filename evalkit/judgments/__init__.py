"""Human judgments of a stored run's translations: what a judgment is, where it is kept
(SQLite under the results folder), and how it becomes one number per segment and system."""
