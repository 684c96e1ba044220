module DemoGreet

greet(name::AbstractString) = "Hello, $(name)!"
greet(name::AbstractString, times::Integer) = join(fill(greet(name), times), " ")

end
