"""The challenge side: tracks, their milestone timeline, teams, data, submissions, metrics, leaderboards."""
