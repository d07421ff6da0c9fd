"""Local-stage only: the dev mailbox and the view of what SNS sent, read back from the local
AWS. The deployment zip leaves this package out (localdev/package.py); the /_dev/ routes
(api/dev.py) import it only in the local stage and answer 404 elsewhere."""
