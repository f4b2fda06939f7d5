# frameworks
