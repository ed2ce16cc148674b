"""The final phase: model submissions scored on device, score formulas, fact sheets and code, the hidden
final leaderboard, results release and the challenge report export."""
