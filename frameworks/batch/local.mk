# frameworks/batch: cairn-batch (owner: the batch framework's work).
