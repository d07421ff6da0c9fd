"""Local-stage only: the dev mailbox and the view of what SNS sent, read back from the local
AWS, and their /_dev/ routes. The deployment zip leaves this package out
(localdev/package.py); app.py registers the routes only where the package is present."""
