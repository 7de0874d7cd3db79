"""The client-go patterns: a client, shared informers, listers, a work queue, leader election."""
