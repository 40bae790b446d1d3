import sys

from greeter.core import greet

print(greet(sys.argv[1]))
