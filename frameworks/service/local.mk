# frameworks/service: cairn-service (owner: the service framework's work).
