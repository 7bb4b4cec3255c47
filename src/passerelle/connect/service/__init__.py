"""Business rules of the influencer program (no HTTP, never commits)."""
