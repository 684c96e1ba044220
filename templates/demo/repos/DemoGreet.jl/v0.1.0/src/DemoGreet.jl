module DemoGreet

greet(name::AbstractString) = "Hello, $(name)!"

end
