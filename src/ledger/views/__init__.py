"""What ledger shows people: reports, plots and pull-request reviews, all over the read path."""
