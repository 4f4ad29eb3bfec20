"""Privacy by design: retention review, erasure, subject access export and consent."""
