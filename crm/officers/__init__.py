"""Officer pages for supervisors (issue 12 item 6): one officer's contacts over time, groups
reached, stance mix, open assignments and the comfort-zone rule in the officer's own figures."""
