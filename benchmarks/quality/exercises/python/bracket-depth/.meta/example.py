PAIRS = {")": "(", "]": "[", "}": "{"}


def max_depth(text):
    stack = []
    deepest = 0
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif char in "([{":
            stack.append(char)
            deepest = max(deepest, len(stack))
        elif char in PAIRS and (not stack or stack.pop() != PAIRS[char]):
            raise ValueError(f"unbalanced {char}")
    if stack:
        raise ValueError("unclosed bracket")
    return deepest
