# Pinned versions of the real servers the project tests against.
OPENBAO_VERSION=2.7.2
