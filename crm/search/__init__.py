"""One search box for people, groups and cases in the user's scope (issue 12 item 7)."""
