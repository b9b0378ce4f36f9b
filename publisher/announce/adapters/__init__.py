"""Built-in adapters, one module per platform; registered in ``publisher.announce.registry``."""
