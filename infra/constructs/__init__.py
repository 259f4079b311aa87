"""One construct per capability; the stack (infra/stack.py) composes them."""
