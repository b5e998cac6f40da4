"""training: config, loss, the trainer with hooks, and the train/CV entry points."""
