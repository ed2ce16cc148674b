"""The organiser console: chairs create and clone editions, edit the call for papers and the important
dates, invite co-chairs, challenge organisers and device operators, and follow their edition from one
dashboard, without the Django admin."""
