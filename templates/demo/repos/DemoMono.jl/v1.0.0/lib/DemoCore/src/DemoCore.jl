module DemoCore

using DemoGreet

welcome() = DemoGreet.greet("air-gapped world")

end
