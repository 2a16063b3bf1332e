"""The beat process: sweeper now; schedules, deferred runs and the trigger engine later."""
