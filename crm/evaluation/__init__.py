"""Evaluation of the approach (issue 14): training roster, randomized trial, surveys."""
