"""The VM pages: the list and a VM's page with its actions (pages), and the
new-VM wizard (wizard)."""
