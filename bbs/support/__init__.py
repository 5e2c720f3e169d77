"""Support contracts and what they entitle to, and incident tracking."""
