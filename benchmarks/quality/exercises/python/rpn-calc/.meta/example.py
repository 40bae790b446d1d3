def evaluate(expression):
    stack = []

    def pop():
        if not stack:
            raise ValueError("too few operands")
        return stack.pop()

    for token in expression.split():
        if token.lstrip("-").isdigit():
            stack.append(int(token))
        elif token in ("+", "-", "*", "/"):
            b, a = pop(), pop()
            if token == "+":
                stack.append(a + b)
            elif token == "-":
                stack.append(a - b)
            elif token == "*":
                stack.append(a * b)
            else:
                if b == 0:
                    raise ZeroDivisionError("division by zero")
                quotient = abs(a) // abs(b)
                stack.append(quotient if (a >= 0) == (b >= 0) else -quotient)
        elif token == "dup":
            top = pop()
            stack.extend([top, top])
        elif token == "swap":
            b, a = pop(), pop()
            stack.extend([b, a])
        elif token == "drop":
            pop()
        else:
            raise ValueError(f"unknown token {token!r}")
    if len(stack) != 1:
        raise ValueError(f"{len(stack)} values left on the stack")
    return stack[0]
